"""Export from the GUI and from `studio render`: the offscreen renderer and what it needs.

    renderer.py   OffscreenRenderer (views as hidden widgets, composed with overlays per
                  frame), `render_frames` and `export` (the frame loop of studio.export.frames)
    panels.py     the views placed in the frame: made, sized and grabbed
    overlays.py   title, legend and step counter: fonts, places, painting
    job.py        ExportJob: the frame loop in time-boxed slices on the GUI thread
    dialog.py     File → Export animation…

The Qt-free parts (render options, frame plan, titles, the views and formats registries,
the frame loop) are in `studio.export`. Nothing is imported here: the dialog is loaded on
demand, and `studio render` needs only the renderer.
"""
