"""``python -m lstm_experiments [overrides]``."""

from lstm_experiments.cli.app import main

if __name__ == "__main__":
    main()
