#!/bin/sh
# A wrapper that execs the interpreter: the traced pid stays the same while
# its program (and address space) changes.
exec /usr/bin/python3 "$(dirname "$0")/threads_demo.py"
