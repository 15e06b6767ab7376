"""The maths of agreements on working time: a request's clock (``slaclock``), whether the legs of
a customer's promise fit in its target (``legs``), attainment recomputed from the event trail
(``attainment``), cut-offs (``cutoffs``) and working days (``workdays``). They stand on the
working-time engine beside them (``tandem.engines.worktime``)."""
