"""The moto S3 server fixture (a real HTTP S3 endpoint on 127.0.0.1); filled in with the remotes."""
