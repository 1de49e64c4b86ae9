"""Models: pgmpy networks, model files, networkx graphs and a zoo of named laws.

Every builder returns a validated :class:`~exactmd.law.distribution.Distribution` (with variable
and state names), so every measure and the sampler accept it directly. Importing this package
imports numpy only; pgmpy and networkx are imported when a function needs them.

- :func:`from_pgmpy` — a pgmpy ``DiscreteBayesianNetwork``, ``DiscreteMarkovNetwork`` or
  ``FactorGraph``, contracted exactly (in numpy, or by torch.einsum) and normalised;
- :func:`load`, :func:`load_example` — BIF/XMLBIF/UAI/``.npy`` files and the shipped
  networks :data:`EXAMPLES` (offline);
- :func:`ising`, :func:`potts` — laws on networkx graphs;
- :func:`markov_chain`, :func:`hmm`, :func:`block_copy`, :func:`parity`,
  :func:`random_xorsat`, :func:`iid`, :func:`random_joint`, :func:`mixture` — the zoo;
- :class:`MarkovChainLaw`, :class:`HMMLaw` — chains held by their parameters, at any N (what
  ``markov_chain(..., table=False)`` and ``hmm(..., table=False)`` return; no q^N table);
- :func:`from_spec` — model strings such as ``"ising:n=8,coupling=0.4,graph=cycle"``.

Examples
--------
>>> from exactmd.models import parity, from_spec
>>> parity(3).shape
(2, 2, 2)
>>> from_spec("block_copy:blocks=2x2,q=3").shape
(3, 3, 3, 3)
"""

from __future__ import annotations

from exactmd.errors import ModelSizeError
from exactmd.models import zoo
from exactmd.models.chains import HMMLaw, MarkovChainLaw
from exactmd.models.files import EXAMPLES, example_path, load, load_example, read_model
from exactmd.models.graphs import ising, potts
from exactmd.models.pgmpy_models import contract_factors, from_pgmpy
from exactmd.models.spec import available_models, from_spec, markov_spec_parameters, parse_spec
from exactmd.models.zoo import *  # noqa: F403 (the names in zoo.__all__, re-exported below)

__all__ = [
    "from_pgmpy",
    "contract_factors",
    "load",
    "load_example",
    "read_model",
    "example_path",
    "EXAMPLES",
    "ising",
    "potts",
    "from_spec",
    "parse_spec",
    "available_models",
    "markov_spec_parameters",
    "ModelSizeError",
    "MarkovChainLaw",
    "HMMLaw",
]
__all__ += zoo.__all__  # the zoo's names, listed once in exactmd.models.zoo
