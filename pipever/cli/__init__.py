"""The command-line shell over ``pipever.commands``: typer and rich live only here."""
