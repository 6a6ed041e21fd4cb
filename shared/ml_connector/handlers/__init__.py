"""The Lambda entry points: each functions/<name>/app.py picks its handler from one module here, which imports only
what that function runs."""
