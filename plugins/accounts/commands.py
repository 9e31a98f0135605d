"""The accounts plugin's ``lms`` commands, gathered from the modules that own them."""


def all_commands():
    from plugins.accounts.identity import COMMANDS as identity_commands
    from plugins.accounts.retirement import COMMANDS as retirement_commands

    return [*identity_commands, *retirement_commands]
