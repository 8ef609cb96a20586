"""The operator CLI against a deployed gateway: ``relay runs``, ``relay feeds``,
``relay config`` (registered by :mod:`relay_cli.operator.commands`)."""
