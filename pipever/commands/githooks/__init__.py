"""Git integration: install/uninstall, git-hook, the merge driver, the pre-commit framework."""
