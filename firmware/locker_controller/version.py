# The firmware's version: HELLO and VERSION answer it; provisioning checks it after a flash.
VERSION = "1.0.0"
