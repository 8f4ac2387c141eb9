"""The command-line shell over ``pipever.ops``: typer and rich live only here."""
