#!/usr/bin/env python
from tandem.cli import main

if __name__ == "__main__":
    main()
