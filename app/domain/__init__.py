"""Pure rules: standard library only. Never import flask, sqlalchemy, marshmallow or app packages."""
