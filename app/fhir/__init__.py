"""FHIR R4 (UK Core): the resource mappings and the read-only facade under /fhir/R4."""
