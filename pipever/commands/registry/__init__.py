"""The model registry on Git tags: model register/promote/rollback/show/history/get."""
