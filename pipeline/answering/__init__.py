"""heard ask: an answer to a question that cites the quotes it rests on.

1. The candidates: every passage that answers the question (`Searcher.every_answer`, what
   `heard search --all` lists), narrowed by search's filters.
2. Without an LLM (the default; nothing leaves the machine): the extractive answer (extractive.py):
   the count line, the themes of the answering passages, and each theme's two most representative
   customer quotes. Never a generated sentence.
3. With an OpenAI-compatible endpoint configured (config `llm`; endpoint.py): the numbered
   candidates that fit the model's context go out (redacted: redaction.py; prompts.py), the model
   says which answer (judge.py, also `heard search --all --judge`), then writes a short answer whose
   every sentence cites quote numbers; heard drops each sentence that cites nothing or a quote it did
   not send (replies.py) and shows the cited quotes under the answer (writers.py).
4. Kept in the data dir by (question, filters, quotes sent, model) (cache.py).
"""
