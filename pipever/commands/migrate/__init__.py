"""``pv migrate dvc``: turn a DVC repository into a pipever one (SPEC §15), without the DVC package.

- ``dvcfiles``: DVC's ``.dvc`` files and ``dvc.lock`` (schema 2), parsed as untrusted input
- ``dvcconfig``: ``.dvc/config`` (configobj's INI dialect) and its mapping to pv's config
- ``dvcobjects``: DVC's object layout (``files/md5/xx/rest``, DVC 2's ``xx/rest``), ``.dir``
  manifests and the md5 variants DVC recorded (DVC 2's CRLF->LF text md5)
- ``sources``: where an object's bytes come from (DVC cache, workspace, DVC remote), verified
  against their md5 while they are hashed into pv's cache
- ``plan`` / ``apply``: what the migration will do (``--dry`` prints it), then doing it
"""
