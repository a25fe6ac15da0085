"""Pure: answer + expectations → assertion records → verdicts; health readers; root causes.

Nothing here touches the network or the terminal; every function is tested in-process.
"""
