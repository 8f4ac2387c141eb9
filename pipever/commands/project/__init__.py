"""The repository itself: init and config."""
