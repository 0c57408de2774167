"""The model service (FastAPI) and its load generator. Template machinery."""
