from flask import Blueprint

bp = Blueprint("voices", __name__)
