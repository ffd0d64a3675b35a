"""Training of the fax-print recogniser (parsing/models/faxprint.traineddata): see README.md."""
