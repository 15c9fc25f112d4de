#!/usr/bin/python3
"""Writes zoom.json: scipy.ndimage.zoom(order=1) resizes of small arrays, the reference for
dream.Resize (the book's resize_img is scipy.ndimage.zoom(img, factors, order=1)).

Run with Debian's python3-scipy: /usr/bin/python3 zoom.py > zoom.json
"""
import json

import numpy as np
import scipy
import scipy.ndimage

rng = np.random.default_rng(6)
cases = []
for (h, w), (oh, ow) in [((5, 7), (9, 4)), ((8, 8), (11, 11)), ((13, 10), (6, 7)), ((6, 9), (6, 13)), ((4, 3), (1, 5))]:
    x = rng.standard_normal((1, h, w, 2)).astype(np.float32)
    # As the book: zoom factors size/shape per axis, order 1, NHWC.
    y = scipy.ndimage.zoom(x, (1, oh / h, ow / w, 1), order=1)
    assert y.shape == (1, oh, ow, 2), y.shape
    cases.append({"in": [h, w], "out": [oh, ow],
                  "x": x.transpose(0, 3, 1, 2).ravel().tolist(),  # NCHW
                  "y": y.transpose(0, 3, 1, 2).ravel().tolist()})
print(json.dumps({"scipy": scipy.__version__, "cases": cases}))
