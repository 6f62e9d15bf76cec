"""What the fake CloudTower's modules share: its error, its timestamps,
and the {id, name} every nested reference is."""
import datetime


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def nested(obj):
    return {"id": obj["id"], "name": obj["name"]}


class ApiError(Exception):
    def __init__(self, status, message, code=None, props=None):
        super().__init__(message)
        self.status, self.message = status, message
        self.code, self.props = code, props


def unit(name):
    return {None: 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30,
            "TB": 1 << 40, "PB": 1 << 50}[name]
