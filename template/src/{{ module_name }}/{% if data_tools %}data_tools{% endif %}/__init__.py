"""Tools around the pipeline: adopt your own CSV (adopt_data, infer_schema) and run sweeps.

Template machinery.
"""
