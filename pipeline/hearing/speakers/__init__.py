"""Who spoke when, from the audio alone: segmentation.py (up to three voices per 10 s window,
pyannote segmentation-3.0) -> pieces.py and encoder.py (a CAM++ voice vector per window's voice,
on features.py's fbank) -> clustering.py (voices into speakers across windows, consolidated over
long recordings) -> diarize.py (speaker turns, voices, confidence; stereo channel-per-person) ->
assign.py (each word to its speaker). der.py scores turns against a reference (diarization error
rate). hearing/speech.py shares the segmentation's windows with Whisper.
"""
