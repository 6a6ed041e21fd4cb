"""The local stack: moto server, template resources, and a driver that runs functions as AWS would."""
