"""The installed system: mounting and chrooting into it, unpacking the payload, writing its files."""
