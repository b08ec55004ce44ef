"""Commands beside LightningCLI's subcommands, dispatched by ``litfashion.cli.main``."""
