"""ml-connector: Sage 100 <-> AvidXchange accounts-payable sync (the Lambda side)."""
