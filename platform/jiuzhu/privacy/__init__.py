"""Personal data on screen: masked by default (:mod:`~jiuzhu.privacy.masking`)."""
