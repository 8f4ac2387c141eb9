"""Remotes and transfers: remote add/modify/list, push, fetch, pull, status -c, gc --cloud."""
