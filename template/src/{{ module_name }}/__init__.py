"""Raw data to a validated model, one DVC stage per module: validate -> prepare -> train -> evaluate.

Yours (edit freely): the four stages, `schema` (the data dictionary), `model` (the sklearn
Pipeline factory), `metrics` (metric registry and quality bar), `params` (typed params.yaml),
`compose_params` and `data_dictionary` (keep params.yaml and docs/ in sync).
Template machinery (`copier update` maintains it): `_internal` (what the stages share),
`pr_check`, `monitoring`, `serving`, `data_tools`.
Each stage runs as `python -m <package>.<stage>`, reads params.yaml and writes its outputs atomically.
"""
