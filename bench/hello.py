"""The baseline of `make bench`: a bare Flask "hello", served by the same gunicorn configuration."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
