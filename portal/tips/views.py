from flask import Blueprint

bp = Blueprint("tips", __name__)
