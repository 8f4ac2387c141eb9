"""``pv ui``: a local web dashboard of the repository (SPEC §14).

``server`` serves pages and JSON on the standard library's HTTP server; each ``/api/`` answer is
built by one module here from the same command functions the CLI calls (``exp show``, ``plots``,
``status``/``dag``, ``diff``/``status -c``, ``model show/history``), so the page and the terminal
never disagree. ``security`` holds the Host allow-list, tokens and the same-origin check;
``static/`` the script, style and the vendored Vega libraries.
"""
