#!/usr/bin/env python
from linjialin.__main__ import main

if __name__ == "__main__":
    main()
