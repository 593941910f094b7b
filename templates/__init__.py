"""Every text optout-bot shows or writes: chat messages, letters, e-mails and their catalogs.

Installed as the package ``optout_templates`` (see ``pyproject.toml``), so a wheel carries them;
``bot.renderer`` and ``conversations.knowledge`` find this folder through it.
"""
