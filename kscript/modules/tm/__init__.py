"""tm and tmx: stateful SIP transactions (Kamailio 5.6 modules tm and tmx).

One file per job:

* :mod:`.transaction` -- the transaction table and matching (requests, CANCELs, replies);
* :mod:`.lookup` -- creating/finding the transaction of the message being processed;
* :mod:`.relay` -- ``t_relay()``: branches, branch_route, sending;
* :mod:`.cancel` -- tm's CANCELs and hop-by-hop ACKs;
* :mod:`.reply` -- local replies, reply processing, best-reply selection, relaying;
* :mod:`.failure` -- the faked request environment failure routes run in;
* :mod:`.timers` -- final response and wait timers on the script clock;
* :mod:`.pvs` -- the ``$T_*`` pseudo-variables (tmx);
* :mod:`.module` / :mod:`.tmx` -- the script functions and module parameters.
"""

from .module import TmModule
from .tmx import TmxModule

__all__ = ["TmModule", "TmxModule"]
