"""The pull-request model check: train base and head on the CI subset, compare, report.

`python -m <module>.pr_check pr|skip|gate` (see .github/workflows/pr.yml). Template machinery.
"""
