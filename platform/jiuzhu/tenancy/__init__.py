"""Tenancy: the county as tenant, its org tree, and the scoping that keeps tenants apart."""
