"""placeholder"""


def includeme(config):
    pass
