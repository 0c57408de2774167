"""`python -m <module>.pr_check pr|gate|warm-cache|skip`."""

from .check import main

main()
