def cherry():
    return "cherry"
