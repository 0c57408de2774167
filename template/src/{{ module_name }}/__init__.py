"""Raw penguins data to a validated model, one DVC stage per module.

Data flow: validate -> prepare -> train -> evaluate. Each stage module runs as
`python -m <package>.<stage>`, reads params.yaml and writes its outputs atomically.
"""
