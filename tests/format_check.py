#!/usr/bin/python3
"""Every tracked C file must match .clang-format (run `make format` to fix)."""
import subprocess
import sys

files = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True, text=True,
                       check=True).stdout.split()
bad = []
for f in files:
    r = subprocess.run(["clang-format", "--dry-run", "--Werror", f], capture_output=True)
    if r.returncode != 0:
        bad.append(f)
        print(f"FAIL {f}: differs from .clang-format (make format)")
print(f"format: {len(files) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad or not files else 0)
