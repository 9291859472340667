"""relsim's shipped persona files (``*.toml``) and example batch files (``batches/*.toml``).

This is a package only so that the files install as package data and are found with
``importlib.resources`` wherever relsim is installed; it holds no code.
"""
