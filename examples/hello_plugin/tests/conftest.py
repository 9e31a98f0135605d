# openlms ships its fixtures as a pytest plugin; plugins opt in here.
pytest_plugins = ["lms.testing"]
