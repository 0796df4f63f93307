"""The interactive terminal annotator (`annotate edit`).

`state` holds every piece of editor state and every action as plain Python (no
prompt-toolkit), so it can be tested and benchmarked on its own; `bindings`, `views` and
`app` put a prompt-toolkit face on it.
"""
