"""Test and benchmark support: a real S3 API on loopback (moto) and a proxy that watches it."""
