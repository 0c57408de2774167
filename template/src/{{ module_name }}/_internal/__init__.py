"""Template machinery the core stages use (errors, files, paths, lineage, model store, scoring).

Maintained by the template: `copier update` replaces it. Edit your pipeline in the modules above.
"""
