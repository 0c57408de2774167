"""`python -m <module>.pr_check pr|skip|gate`."""

from .check import main

main()
